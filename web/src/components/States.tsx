import type { UseQueryResult } from "@tanstack/react-query";
import { Link } from "react-router";

import { useCan } from "../access";
import { ApiError } from "../api";
import { useI18n } from "../i18n";
import { describe } from "../problems";

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="state" role="status" aria-live="polite">
      {t("state.loading")}
    </p>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  // A write refused because the resource changed since it was read: the
  // way out is to read it again.
  const stale = error instanceof ApiError && error.status === 412;
  // What is gone will not come back by retrying: offer a way out instead.
  if (error instanceof ApiError && error.status === 404)
    return (
      <div className="state state-error" role="alert">
        <p>{t("problem.notFound")}</p>
        <Link to="/">{t("state.backHome")}</Link>
      </div>
    );
  return (
    <div className="state state-error" role="alert">
      <p>{describe(error, t)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {stale ? t("state.reload") : t("state.retry")}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** A list's query in each of its states: loading, failed, empty, or its items. */
export function ListOf<T>({
  query,
  empty,
  children,
}: {
  query: UseQueryResult<{ items: T[] }>;
  empty: string;
  children: (items: T[]) => React.ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => query.refetch()} />;
  if (query.data.items.length === 0) return <Empty>{empty}</Empty>;
  return <>{children(query.data.items)}</>;
}

/** A page for administrators only: others are told so, and nothing else renders. */
export function AdminPage({
  id,
  title,
  forbidden,
  children,
}: {
  id: string;
  title: string;
  forbidden: string;
  children: React.ReactNode;
}) {
  const mayAdmin = useCan("admin");
  return (
    <section aria-labelledby={id}>
      <h1 id={id}>{title}</h1>
      {mayAdmin ? (
        children
      ) : (
        <p className="error" role="alert">
          {forbidden}
        </p>
      )}
    </section>
  );
}
