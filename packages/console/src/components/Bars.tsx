/** A small grouped bar chart in SVG: one group per day, one bar per series. */
export function Bars<K extends string>(props: {
  rows: ({ label: string } & Record<K, number>)[];
  series: { key: K; title: string; color: string }[];
  height?: number;
}) {
  const height = props.height ?? 160;
  const max = Math.max(1, ...props.rows.flatMap((r) => props.series.map((s) => r[s.key])));
  const groupWidth = props.series.length * 6 + 4;
  const width = Math.max(200, props.rows.length * groupWidth);
  return (
    <figure className="bars">
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label="operations per day">
        {props.rows.map((row, i) =>
          props.series.map((s, j) => {
            const h = (row[s.key] / max) * height;
            return (
              <rect
                key={`${row.label}-${s.key}`}
                x={i * groupWidth + j * 6}
                y={height - h}
                width={5}
                height={h}
                fill={s.color}
              >
                <title>{`${row.label} ${s.title}: ${row[s.key]}`}</title>
              </rect>
            );
          }),
        )}
        <text x={0} y={height + 14} fontSize={10}>
          {props.rows[0]?.label}
        </text>
        <text x={width} y={height + 14} fontSize={10} textAnchor="end">
          {props.rows.at(-1)?.label}
        </text>
      </svg>
      <figcaption>
        {props.series.map((s) => (
          <span key={s.key} className="legend">
            <i style={{ background: s.color }} /> {s.title}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
