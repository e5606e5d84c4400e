import type { CellCapacityView, Region } from '@leengine/common';
import { useState } from 'react';
import { api, seg } from '../api.ts';
import { useConfirm } from '../components/Confirm.tsx';
import { FormError } from '../components/Field.tsx';
import { Table } from '../components/Table.tsx';
import { useApi } from '../useApi.ts';
import { IpamUsage } from './IpamUsage.tsx';
import { AddCell, NewRegion } from './RegionForms.tsx';

/**
 * Regions and their cells: create and delete regions, add and remove cells; health,
 * cordon, usage (requested vs allocatable), evacuation.
 */
export function Regions() {
  const regions = useApi<{ items: Region[] }>('/regions');
  const [capacity, setCapacity] = useState<Record<string, CellCapacityView>>({});
  const [error, setError] = useState<string | undefined>();
  const [ipam, setIpam] = useState<{ region: string; cell: string } | null>(null);
  const confirm = useConfirm(regions.reload);
  const act = (path: string) => {
    setError(undefined);
    void api.post(path).then(regions.reload, (e: Error) => setError(e.message));
  };
  const load = (region: string, cell: string) => {
    setError(undefined);
    void api.get<CellCapacityView>(`/regions/${seg(region)}/cells/${seg(cell)}/capacity`).then(
      (c) => setCapacity((m) => ({ ...m, [cell]: c })),
      (e: Error) => setError(e.message),
    );
  };
  return (
    <section aria-labelledby="regions-title">
      <h2 id="regions-title">Regions and cells</h2>
      <FormError error={error ?? regions.error?.message} />
      <NewRegion onSaved={regions.reload} />
      {(regions.data?.items ?? []).map((r) => (
        <div key={r.name} className="region" data-region={r.name}>
          <h3>
            {r.name} <span className="muted">{r.description}</span>{' '}
            <button
              type="button"
              className="link danger-link"
              aria-label={`delete region ${r.name}`}
              onClick={() =>
                confirm.ask({
                  title: `Delete region ${r.name}?`,
                  description: 'Only a region without cells and applications can be deleted.',
                  confirmLabel: 'Delete region',
                  action: () => api.delete(`/regions/${seg(r.name)}`),
                })
              }
            >
              Delete
            </button>
          </h3>
          <Table
            className="cells"
            headers={[
              'Cell',
              'Health',
              'Applications',
              'CPU requested / allocatable',
              'Memory requested / allocatable',
              'Pods / nodes',
              { hidden: 'Actions' },
            ]}
            items={r.cells}
            row={(c) => {
              const cap = capacity[c.name];
              const base = `/regions/${seg(r.name)}/cells/${seg(c.name)}`;
              return (
                <tr key={c.name} data-cell={c.name}>
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
                    {cap ? `${cap.total.requested.memoryMib} / ${cap.total.allocatable.memoryMib} MiB` : '—'}
                  </td>
                  <td>{cap ? `${cap.total.pods} / ${cap.nodes.length}` : '—'}</td>
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-label={`usage of ${c.name}`}
                      onClick={() => load(r.name, c.name)}
                    >
                      Usage
                    </button>{' '}
                    <button
                      type="button"
                      className="link"
                      aria-label={`IP addresses of ${c.name}`}
                      onClick={() => setIpam({ region: r.name, cell: c.name })}
                    >
                      IPAM
                    </button>{' '}
                    {c.cordoned ? (
                      <button type="button" className="link" onClick={() => act(`${base}/uncordon`)}>
                        Uncordon
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="link"
                        onClick={() =>
                          confirm.ask({
                            title: `Cordon ${c.name}?`,
                            description: `No new application is placed on ${c.name}; what runs there stays.`,
                            confirmLabel: 'Cordon cell',
                            action: () => api.post(`${base}/cordon`),
                          })
                        }
                      >
                        Cordon
                      </button>
                    )}{' '}
                    <button
                      type="button"
                      className="link danger-link"
                      onClick={() =>
                        confirm.ask({
                          title: `Evacuate ${c.name}?`,
                          description: `${c.name} is cordoned and every application on it moves to the region's other cells.`,
                          confirmLabel: 'Evacuate cell',
                          action: () => api.post(`${base}/evacuate`),
                        })
                      }
                    >
                      Evacuate
                    </button>{' '}
                    <button
                      type="button"
                      className="link danger-link"
                      aria-label={`remove cell ${c.name}`}
                      onClick={() =>
                        confirm.ask({
                          title: `Remove ${c.name} from ${r.name}?`,
                          description: `Only a cell that runs no application can be removed; evacuate it first. Nothing in ${c.name} itself is deleted.`,
                          confirmLabel: 'Remove cell',
                          action: () => api.delete(base),
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              );
            }}
          />
          <details>
            <summary>Add a cell to {r.name}</summary>
            <AddCell region={r.name} onSaved={regions.reload} />
          </details>
        </div>
      ))}
      {ipam ? <IpamUsage key={`${ipam.region}/${ipam.cell}`} region={ipam.region} cell={ipam.cell} /> : null}
      {confirm.element}
    </section>
  );
}
