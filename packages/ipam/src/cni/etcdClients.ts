import { Etcd3 } from 'etcd3';
import { Ipam } from '../ipam.ts';
import type { NetConf } from './config.ts';

/** One etcd client per endpoint list, and one Ipam per cell on it; `close()` ends them. */
export class EtcdClients {
  readonly #clients = new Map<string, Etcd3>();
  readonly #ipams = new Map<string, Ipam>();

  ipamFor(conf: NetConf): Ipam {
    const endpoints = conf.etcd.endpoints.join(',');
    const key = `${endpoints}|${conf.cell}`;
    let ipam = this.#ipams.get(key);
    if (!ipam) {
      let client = this.#clients.get(endpoints);
      if (!client) {
        client = new Etcd3({ hosts: conf.etcd.endpoints, dialTimeout: 5_000 });
        this.#clients.set(endpoints, client);
      }
      ipam = Ipam.create({ client, cell: conf.cell });
      this.#ipams.set(key, ipam);
    }
    return ipam;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#ipams.clear();
  }
}
