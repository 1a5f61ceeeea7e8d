import type { ReactNode } from "react";

export interface Bar {
  key: string | number;
  label: ReactNode;
  /** How long the bar is, out of `of`. */
  value: number;
  of: number;
  /** The figure as people read it, beside the bar. */
  text: string;
  /** Drawn hatched: a bar with no end (a garage without a limit). */
  open?: boolean;
}

/**
 * A horizontal bar chart that is a table: screen readers and printers get
 * the figures, eyes get the bars (drawn beside each figure, hidden from
 * assistive technology).
 */
export function Bars({ caption, head, bars }: { caption: string; head: [string, string]; bars: Bar[] }) {
  return (
    <div className="table-wrap">
      <table className="bars">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head[0]}</th>
            <th scope="col">{head[1]}</th>
          </tr>
        </thead>
        <tbody>
          {bars.map((bar) => {
            const share = bar.of > 0 ? Math.min(1, bar.value / bar.of) : 0;
            return (
              <tr key={bar.key}>
                <th scope="row">{bar.label}</th>
                <td>
                  <div className="bar-cell">
                    <span className={bar.open ? "bar open" : "bar"} aria-hidden="true">
                      <span className="fill" style={{ width: `${(share * 100).toFixed(1)}%` }} />
                    </span>
                    <span className="figure">{bar.text}</span>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
