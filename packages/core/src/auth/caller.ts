/** Who is making a request, once authenticated. */
export interface Caller {
  userId: number;
  username: string;
  admin: boolean;
  /** How they proved it: the console's session cookie or a personal access token. */
  via: 'session' | 'token';
}
