import type { CellIpam } from '@leengine/common';
import { seg } from '../api.ts';
import { PagedTable } from '../components/Table.tsx';
import { useApi } from '../useApi.ts';

function percent(used: number, total: number): string {
  return total ? `${Math.round((used / total) * 100)}%` : '—';
}

/** One cell's container addresses: segments, nodes, blocks, and the leak check's findings. */
export function IpamUsage(props: { region: string; cell: string }) {
  const ipam = useApi<CellIpam>(`/regions/${seg(props.region)}/cells/${seg(props.cell)}/ipam`);
  const d = ipam.data;
  return (
    <section className="ipam" aria-labelledby="ipam-title">
      <div className="toolbar">
        <h3 id="ipam-title">IP addresses of {props.cell}</h3>
        <button type="button" className="link" onClick={ipam.reload} disabled={ipam.loading}>
          {ipam.loading ? 'Reading…' : 'Refresh'}
        </button>
      </div>
      {ipam.error ? <p className="error">{ipam.error.message}</p> : null}
      {d ? (
        <>
          <h4>Segments</h4>
          <PagedTable
            items={d.segments}
            label="segments"
            empty="No segment: this cell's pods get their addresses elsewhere (add one with cnictl segment add)."
            className="segments"
            headers={['Segment', 'Gateway', 'VLAN', 'State', 'Blocks claimed', 'Addresses used']}
            row={(s) => (
              <tr key={s.cidr}>
                <td>
                  <code>{s.cidr}</code>
                </td>
                <td>{s.gateway}</td>
                <td>{s.vlan ?? '—'}</td>
                <td>{s.state}</td>
                <td>
                  {s.blocksClaimed} / {s.blocks}
                </td>
                <td>
                  <meter
                    min={0}
                    max={Math.max(1, s.usable)}
                    value={s.allocated}
                    aria-label={`${s.cidr} used`}
                  />{' '}
                  {s.allocated} / {s.usable} ({percent(s.allocated, s.usable)})
                </td>
              </tr>
            )}
          />
          <h4>Nodes</h4>
          <PagedTable
            items={d.nodes}
            label="nodes"
            empty="No node holds a block yet."
            headers={['Node', 'Blocks', 'Addresses used', 'Pods']}
            row={(n) => (
              <tr key={n.node}>
                <td>{n.node}</td>
                <td>{n.blocks}</td>
                <td>
                  {n.allocated} / {n.usable}
                </td>
                <td>{n.pods}</td>
              </tr>
            )}
          />
          <h4>Blocks</h4>
          <PagedTable
            items={d.blocks}
            label="blocks"
            empty="No block claimed."
            headers={['Block', 'Owner', 'State', 'Used']}
            row={(b) => (
              <tr key={b.cidr}>
                <td>
                  <code>{b.cidr}</code>
                </td>
                <td>{b.owner}</td>
                <td>{b.state}</td>
                <td>
                  {b.allocated} / {b.usable}
                </td>
              </tr>
            )}
          />
          <h4>Leaks</h4>
          {d.leakCheckError ? <p className="error">{d.leakCheckError}</p> : null}
          {d.leakCheck ? (
            <>
              <p className="muted">
                Checked {new Date(d.leakCheck.checkedAt).toLocaleString()}: {d.leakCheck.allocations}{' '}
                allocations against {d.leakCheck.pods} pods ({d.leakCheck.young} too young to judge).{' '}
                {d.leakCheck.leaks.length} leaked.
              </p>
              <PagedTable
                items={d.leakCheck.leaks}
                label="leaks"
                empty="No leaked address."
                className="leaks"
                headers={['Address', 'Why', 'Pod', 'Node', 'Since']}
                row={(l) => (
                  <tr key={l.ip} className="failed">
                    <td>
                      <code>{l.ip}</code>
                    </td>
                    <td>{l.reason}</td>
                    <td>
                      {l.namespace}/{l.pod}
                    </td>
                    <td>{l.node}</td>
                    <td>{new Date(l.since).toLocaleString()}</td>
                  </tr>
                )}
              />
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
