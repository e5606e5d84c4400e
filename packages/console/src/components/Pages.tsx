import { type ReactNode, useState } from 'react';

/**
 * Pages of a list the API answers whole (tags, members, versions, containers, SLB
 * groups, cells' IPAM blocks): `size` rows at a time with Previous/Next.
 */
export function Pages<T>(props: {
  items: T[];
  size?: number;
  label: string;
  empty?: string;
  render: (items: T[]) => ReactNode;
}) {
  const size = props.size ?? 20;
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(props.items.length / size));
  const current = Math.min(page, pages - 1);
  if (props.items.length === 0) return props.empty ? <p className="muted">{props.empty}</p> : null;
  return (
    <div className="pages">
      {props.render(props.items.slice(current * size, (current + 1) * size))}
      {pages > 1 ? (
        <nav className="pager" aria-label={`${props.label} pages`}>
          <button
            type="button"
            className="link"
            disabled={current === 0}
            onClick={() => setPage(current - 1)}
          >
            Previous
          </button>
          <span>
            Page {current + 1} of {pages} ({props.items.length})
          </span>
          <button
            type="button"
            className="link"
            disabled={current >= pages - 1}
            onClick={() => setPage(current + 1)}
          >
            Next
          </button>
        </nav>
      ) : null}
    </div>
  );
}
