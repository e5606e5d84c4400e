export { type Backend, httpGet, type Reply, startBackend } from './http.ts';
export { type LoadResult, steadyLoad } from './load.ts';
export { type SlbNginxHandle, startSlbNginx } from './slbHost.ts';
