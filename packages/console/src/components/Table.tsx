import type { ReactNode } from 'react';
import { Pages } from './Pages.tsx';

/** A column header: its text, or `{ hidden }` for a column read only by screen readers (actions). */
export type Header = string | { hidden: string };

/** A table with one header row and a row per item; `row` draws the item's `<tr>` (with its key). */
export function Table<T>(props: {
  className?: string;
  headers: Header[];
  items: readonly T[];
  row: (item: T) => ReactNode;
}) {
  return (
    <table className={props.className}>
      <thead>
        <tr>
          {props.headers.map((h) =>
            typeof h === 'string' ? (
              <th key={h}>{h}</th>
            ) : (
              <th key={h.hidden}>
                <span className="sr-only">{h.hidden}</span>
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>{props.items.map((item) => props.row(item))}</tbody>
    </table>
  );
}

/**
 * A list the API answers whole, as a table shown a page at a time (`Pages`): the load's
 * error above it, `empty` when there is nothing.
 */
export function PagedTable<T>(props: {
  items: T[];
  label: string;
  size?: number;
  empty?: string | undefined;
  error?: Error | undefined;
  className?: string;
  headers: Header[];
  row: (item: T) => ReactNode;
}) {
  return (
    <>
      {props.error ? <p className="error">{props.error.message}</p> : null}
      <Pages
        items={props.items}
        label={props.label}
        size={props.size}
        empty={props.empty}
        render={(items) => (
          <Table className={props.className} headers={props.headers} items={items} row={props.row} />
        )}
      />
    </>
  );
}
