import type { CellCapacityView, Region } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useApi } from '../useApi.ts';

/** Regions and their cells: health, cordon, usage (requested vs allocatable), evacuation. */
export function Regions() {
  const regions = useApi<{ items: Region[] }>('/regions');
  const [capacity, setCapacity] = useState<Record<string, CellCapacityView>>({});
  const act = (path: string) => void api.post(path).then(regions.reload, (e: Error) => alert(e.message));
  const load = (region: string, cell: string) =>
    void api.get<CellCapacityView>(`/regions/${seg(region)}/cells/${seg(cell)}/capacity`).then(
      (c) => setCapacity((m) => ({ ...m, [cell]: c })),
      (e: Error) => alert(e.message),
    );
  return (
    <section>
      <h2>Regions and cells</h2>
      {(regions.data?.items ?? []).map((r) => (
        <div key={r.name} className="region">
          <h3>
            {r.name} <span className="muted">{r.description}</span>
          </h3>
          <table className="cells">
            <thead>
              <tr>
                <th>Cell</th>
                <th>Health</th>
                <th>Applications</th>
                <th>CPU requested / allocatable</th>
                <th>Memory requested / allocatable</th>
                <th>Pods / nodes</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {r.cells.map((c) => {
                const cap = capacity[c.name];
                const base = `/regions/${seg(r.name)}/cells/${seg(c.name)}`;
                return (
                  <tr key={c.name}>
                    <td>
                      {c.name}
                      {c.cordoned ? <span className="error"> cordoned</span> : null}
                    </td>
                    <td title={c.health.message}>{c.health.state}</td>
                    <td>{c.applications}</td>
                    <td>
                      {cap
                        ? `${cap.total.requested.cpuMillicores} m / ${cap.total.allocatable.cpuMillicores} m`
                        : '—'}
                    </td>
                    <td>
                      {cap
                        ? `${cap.total.requested.memoryMib} / ${cap.total.allocatable.memoryMib} MiB`
                        : '—'}
                    </td>
                    <td>{cap ? `${cap.total.pods} / ${cap.nodes.length}` : '—'}</td>
                    <td>
                      <button type="button" className="link" onClick={() => load(r.name, c.name)}>
                        Usage
                      </button>{' '}
                      <button
                        type="button"
                        className="link"
                        onClick={() => act(`${base}/${c.cordoned ? 'uncordon' : 'cordon'}`)}
                      >
                        {c.cordoned ? 'Uncordon' : 'Cordon'}
                      </button>{' '}
                      <button
                        type="button"
                        className="link"
                        onClick={() =>
                          confirm(`Move every application off ${c.name}?`) && act(`${base}/evacuate`)
                        }
                      >
                        Evacuate
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}
