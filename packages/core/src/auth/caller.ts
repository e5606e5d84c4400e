/** Who is making a request, once authenticated. */
export interface Caller {
  userId: number;
  username: string;
  admin: boolean;
  /**
   * How they proved it: the console's session cookie, a personal access token, or a
   * password sent to the registry token endpoint (Basic auth).
   */
  via: 'session' | 'token' | 'password';
}
