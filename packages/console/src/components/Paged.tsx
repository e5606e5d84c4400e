import type { Page } from '@leengine/common';
import { type ReactNode, useEffect, useState } from 'react';
import { api, query } from '../api.ts';

/** A list read page by page (cursor), with search; `render` draws the rows. */
export function Paged<T>(props: {
  path: string;
  params?: Record<string, string | undefined>;
  searchable?: boolean;
  empty: string;
  render: (items: T[]) => ReactNode;
  reloadKey?: number;
}) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const key = JSON.stringify([props.path, props.params, q, props.reloadKey]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for every input
  useEffect(() => {
    let live = true;
    setError(undefined);
    api
      .get<Page<T>>(`${props.path}${query({ ...props.params, q, limit: 20 })}`)
      .then((page) => {
        if (!live) return;
        setItems(page.items);
        setNext(page.nextCursor);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [key]);

  const more = async () => {
    if (!next) return;
    try {
      const page = await api.get<Page<T>>(
        `${props.path}${query({ ...props.params, q, limit: 20, cursor: next })}`,
      );
      setItems((old) => [...old, ...page.items]);
      setNext(page.nextCursor);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="paged">
      {props.searchable ? (
        <input
          className="search"
          type="search"
          aria-label="search"
          placeholder="Search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      ) : null}
      {error ? <p className="error">{error}</p> : null}
      {items.length === 0 && !error ? <p className="muted">{props.empty}</p> : props.render(items)}
      {next ? (
        <button type="button" className="link" onClick={() => void more()}>
          Load more
        </button>
      ) : null}
    </div>
  );
}
