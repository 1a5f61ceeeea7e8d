import type { HTMLAttributes, ReactNode } from "react";
import { Link } from "react-router";

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
  /** The key the list sorts by when this header is chosen. */
  sortKey?: string;
}

/** How a sortable table is sorted, and where each header leads. */
export interface Sorting {
  by: string;
  descending: boolean;
  /** The address of the list sorted by `key`, descending or not. */
  href: (key: string, descending: boolean) => string;
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
  sorting,
}: {
  rows: readonly T[];
  columns: readonly (Column<T> | false)[];
  rowKey: (row: T, index: number) => string | number;
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
  sorting?: Sorting;
}) {
  const shown = columns.filter((c): c is Column<T> => c !== false);
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {shown.map((c) => {
              const sorted = sorting && c.sortKey !== undefined && sorting.by === c.sortKey;
              return (
                <th
                  key={c.label}
                  scope="col"
                  className={c.num ? "num" : undefined}
                  aria-sort={sorted ? (sorting.descending ? "descending" : "ascending") : undefined}
                >
                  {c.actions ? (
                    <span className="visually-hidden">{c.label}</span>
                  ) : sorting && c.sortKey !== undefined ? (
                    // A sorted column's header reverses it; another's sorts by it.
                    <Link
                      className="sort"
                      to={sorting.href(c.sortKey, Boolean(sorted) && !sorting.descending)}
                    >
                      {c.label}
                      <span aria-hidden="true">{sorted ? (sorting.descending ? " ▼" : " ▲") : ""}</span>
                    </Link>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
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
