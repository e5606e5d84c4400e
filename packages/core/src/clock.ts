/** Where core gets the time from; tests pass their own to move it. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
