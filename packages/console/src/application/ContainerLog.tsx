import { useEffect, useRef, useState } from 'react';
import { query, seg } from '../api.ts';

/** A followed log keeps at most this much text in the page (the oldest goes first). */
const KEEP_CHARS = 200_000;

/**
 * A container's log: its last 200 lines, or with Follow on, the same and then new lines as
 * the container writes them, read from the response body while it stays open. The request
 * is aborted when Follow goes off, the log is closed, another container is picked, or the
 * page goes away, so no stream is left open at the cell.
 */
export function ContainerLog(props: { base: string; cell: string; pod: string; onClose: () => void }) {
  const [follow, setFollow] = useState(false);
  const [text, setText] = useState('Loading…');
  const [failed, setFailed] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const box = useRef<HTMLPreElement>(null);
  // Auto-scroll only while the reader is at the bottom (scrolling up to read stops it).
  const pinned = useRef(true);
  const url = `/api/v1${props.base}/cells/${seg(props.cell)}/containers/${seg(props.pod)}/logs`;

  useEffect(() => {
    const stop = new AbortController();
    setFailed(false);
    setText('Loading…');
    const read = async () => {
      const response = await fetch(`${url}${query(follow ? { tail: 200, follow: 'true' } : { tail: 200 })}`, {
        credentials: 'same-origin',
        signal: stop.signal,
      });
      if (!follow || !response.ok || !response.body) {
        setText(await response.text());
        setFailed(!response.ok);
        return;
      }
      setText('');
      setStreaming(true);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        const part = decoder.decode(chunk.value, { stream: true });
        setText((old) => (old + part).slice(-KEEP_CHARS));
      }
    };
    read()
      .catch((error: Error) => {
        if (stop.signal.aborted) return;
        setText((old) => `${old}\n${error.message}`);
        setFailed(true);
      })
      .finally(() => {
        if (!stop.signal.aborted) setStreaming(false);
      });
    return () => {
      stop.abort();
      setStreaming(false);
    };
  }, [url, follow]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll as the text grows
  useEffect(() => {
    const el = box.current;
    if (el && follow && pinned.current) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  return (
    <section aria-labelledby="container-log-title">
      <div className="toolbar">
        <h2 id="container-log-title">Log of {props.pod}</h2>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <button type="button" className="link" onClick={props.onClose}>
          Close log
        </button>
      </div>
      <pre
        ref={box}
        role="log"
        aria-label={`log of ${props.pod}`}
        data-streaming={streaming}
        className={`copy log${failed ? ' error' : ''}`}
        onScroll={(e) => {
          const el = e.currentTarget;
          pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {text || (streaming ? '(waiting for lines…)' : '(empty)')}
      </pre>
    </section>
  );
}
