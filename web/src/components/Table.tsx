import type { HTMLAttributes, ReactNode } from "react";

/** One column of a {@link Table}. */
export interface Column<T> {
  /** The header, and the label a phone shows before each cell. */
  label: string;
  cell: (row: T) => ReactNode;
  /** Numbers align right, header and cells. */
  num?: boolean;
  /** A class for the cells alone (`plate` for identifiers). */
  cellClass?: string;
  /** The row's buttons: the header is for screen readers only and cells carry no label. */
  actions?: boolean;
}

/**
 * A table that turns into labelled cards on a phone: every page's list is
 * one, so headers, `scope`, labels and the scrolling wrapper are written once.
 */
export function Table<T>({
  rows,
  columns,
  rowKey,
  rowProps,
}: {
  rows: readonly T[];
  columns: readonly (Column<T> | false)[];
  rowKey: (row: T, index: number) => string | number;
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
}) {
  const shown = columns.filter((c): c is Column<T> => c !== false);
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {shown.map((c) => (
              <th key={c.label} scope="col" className={c.num ? "num" : undefined}>
                {c.actions ? <span className="visually-hidden">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={rowKey(row, i)} {...rowProps?.(row)}>
              {shown.map((c) => (
                <td
                  key={c.label}
                  data-label={c.actions ? undefined : c.label}
                  className={
                    c.actions
                      ? "row-actions"
                      : [c.num && "num", c.cellClass].filter(Boolean).join(" ") || undefined
                  }
                >
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
