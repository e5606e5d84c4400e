import { Buildah } from '../buildah.ts';
import type { RegistryHandle } from '../registry.ts';

/** Images every cell needs, pushed to the region's registry (no public registry is reachable). */
export interface CellImages {
  /** The pod sandbox ("pause") image. */
  pause: string;
  /**
   * A tiny HTTP server on port 8080 answering `GET /` with its pod's name (busybox httpd);
   * `/healthz` answers 200 too. It logs every request (`<ip>:<port>: url:<path>`, then
   * `response:<status>`) to its container log, so tests can see logs arrive.
   */
  httpbox: string;
}

const pushed = new Map<string, Promise<CellImages>>();

/** Builds the cell images with buildah and pushes them once per registry (with `creds`, if given). */
export function ensureCellImages(registry: RegistryHandle, creds?: string): Promise<CellImages> {
  let images = pushed.get(registry.url);
  if (!images) {
    images = buildAndPush(registry, creds);
    pushed.set(registry.url, images);
    images.catch(() => pushed.delete(registry.url));
  }
  return images;
}

async function buildAndPush(registry: RegistryHandle, creds: string | undefined): Promise<CellImages> {
  const images: CellImages = {
    pause: `${registry.host}/leengine/pause:1`,
    httpbox: `${registry.host}/leengine/httpbox:1`,
  };
  const buildah = Buildah.create();
  try {
    await buildah.busyboxImage('localhost/leengine/pause:1', {
      // PID 1 gets no default signal handlers: trap TERM so the sandbox stops at once.
      cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
    });
    await buildah.busyboxImage('localhost/leengine/httpbox:1', {
      cmd: [
        '/bin/sh',
        '-c',
        'mkdir -p /www && hostname > /www/index.html && echo ok > /www/healthz && exec httpd -f -vv -p 8080 -h /www',
      ],
    });
    await buildah.push('localhost/leengine/pause:1', images.pause, creds ? { creds } : {});
    await buildah.push('localhost/leengine/httpbox:1', images.httpbox, creds ? { creds } : {});
    return images;
  } finally {
    buildah.remove();
  }
}
