import { DOLLAR_VARIABLE, quoteLiteral } from './nginxString.ts';
import { DYNAMIC_UPSTREAM } from './renderDomain.ts';

/** The SLB host's own settings (from the agent's validated config, never from users). */
export interface MainContext {
  /** The agent's root dir: nginx's prefix (`-p`), pid file, temp dirs. */
  root: string;
  /** This generation's dir: holds this `nginx.conf`, `lua/` and `domains/`. */
  genDir: string;
  /** Identifies the generation; the control server answers it at GET /generation. */
  generation: string;
  modulesDir: string;
  workerProcesses: number;
  workerConnections: number;
  /** Run workers as nobody (when the master runs as root). */
  dropPrivileges: boolean;
  /** `address:port` pairs of plain HTTP; the catch-all server answers unknown hosts here. */
  http: readonly string[];
  /** `address:port` of the metrics server (Prometheus text at /metrics). */
  metrics: string;
  /** The control socket (unix): only the agent talks to it. */
  controlSocket: string;
  upstreamsDictMb: number;
  metricsDictMb: number;
  /** Upstream keep-alive connections cached per worker. */
  keepalive: number;
}

/**
 * The whole `nginx.conf` of one generation: modules, the Lua balancer and its shared
 * dicts, the control, metrics and catch-all servers, and an include of the generation's
 * own domain files (absolute paths, so `nginx -t` on a staged generation tests exactly
 * what goes live). Pure: same context, same text.
 */
export function renderMain(c: MainContext): string {
  const tmp = (d: string) => quoteLiteral(`${c.root}/tmp/${d}`);
  const lines = [
    '# written by slb-agent; do not edit (the next apply replaces it)',
    `load_module ${quoteLiteral(`${c.modulesDir}/ndk_http_module.so`)};`,
    `load_module ${quoteLiteral(`${c.modulesDir}/ngx_http_lua_module.so`)};`,
    'daemon off;',
    'master_process on;',
    `worker_processes ${c.workerProcesses};`,
    ...(c.dropPrivileges ? ['user nobody nogroup;'] : []),
    `pid ${quoteLiteral(`${c.root}/nginx.pid`)};`,
    `error_log ${quoteLiteral(`${c.root}/logs/error.log`)} notice;`,
    '',
    'events {',
    `    worker_connections ${c.workerConnections};`,
    '}',
    '',
    'http {',
    '    access_log off;',
    '    server_tokens off;',
    `    client_body_temp_path ${tmp('client_body')};`,
    `    proxy_temp_path ${tmp('proxy')};`,
    `    fastcgi_temp_path ${tmp('fastcgi')};`,
    `    uwsgi_temp_path ${tmp('uwsgi')};`,
    `    scgi_temp_path ${tmp('scgi')};`,
    '    server_names_hash_max_size 65536;',
    '    server_names_hash_bucket_size 128;',
    '    variables_hash_max_size 2048;',
    `    lua_package_path ${quoteLiteral(`${c.genDir}/lua/?.lua;/usr/share/lua/5.1/?.lua;;`)};`,
    `    lua_shared_dict leengine_upstreams ${c.upstreamsDictMb}m;`,
    `    lua_shared_dict leengine_metrics ${c.metricsDictMb}m;`,
    '    init_by_lua_block { require("leengine.slb").init() }',
    '    init_worker_by_lua_block { require("leengine.slb").init_worker() }',
    '    log_by_lua_block { require("leengine.slb").log() }',
    '',
    '    # A literal "$" for quoted user values (geo values are never interpolated).',
    `    geo $${DOLLAR_VARIABLE} { default "$"; }`,
    '    map $http_upgrade $leengine_connection_upgrade { default upgrade; "" close; }',
    '',
    `    upstream ${DYNAMIC_UPSTREAM} {`,
    '        server 127.0.0.1:1; # placeholder, never used: the Lua balancer sets every peer ("down" would stop retries)',
    '        balancer_by_lua_block { require("leengine.slb").balance() }',
    `        keepalive ${c.keepalive};`,
    '    }',
    '',
    '    server {',
    `        listen ${quoteLiteral(`unix:${c.controlSocket}`)};`,
    '        set $leengine_domain "";',
    '        client_max_body_size 0;',
    '        client_body_buffer_size 16m;',
    `        location = /generation { return 200 ${quoteLiteral(c.generation)}; }`,
    '        location / { content_by_lua_block { require("leengine.slb").control() } }',
    '    }',
    '',
    '    server {',
    `        listen ${c.metrics};`,
    '        set $leengine_domain "";',
    '        location = /metrics { content_by_lua_block { require("leengine.slb").metrics() } }',
    '        location / { return 404; }',
    '    }',
    '',
    '    # Hosts no domain claims.',
    '    server {',
    ...c.http.map((address) => `        listen ${address} default_server;`),
    '        server_name _;',
    '        set $leengine_domain "_";',
    '        return 404;',
    '    }',
    '',
    `    include ${quoteLiteral(`${c.genDir}/domains/*.conf`)};`,
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
