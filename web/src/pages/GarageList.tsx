import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useSearchParams } from "react-router";

import { useCan, useLimited } from "../access";
import { api } from "../api";
import { Pager } from "../components/Pager";
import { Empty, ErrorState, Loading } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";

export function GarageList() {
  const { t } = useI18n();
  useTitle(t("garages.title"));
  const { state } = useLocation() as { state: { notice?: string } | null };
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const cursor = params.get("cursor") ?? undefined;
  const [draft, setDraft] = useState(q);
  const mayWrite = useCan("write");
  const limited = useLimited();
  const mayCreate = mayWrite && !limited;
  const garages = useQuery({
    queryKey: ["garages", { q, cursor }],
    queryFn: () => api.listGarages({ q, cursor }),
  });
  const search = (event: FormEvent) => {
    event.preventDefault();
    setParams(draft.trim() ? { q: draft.trim() } : {});
  };
  return (
    <section aria-labelledby="garages-title">
      <div className="heading">
        <h1 id="garages-title">{t("garages.title")}</h1>
        {mayCreate && (
          <Link to="/garages/new" className="button">
            {t("garages.new")}
          </Link>
        )}
      </div>
      {state?.notice && (
        <p className="notice" role="status">
          {state.notice}
        </p>
      )}
      <form role="search" aria-label={t("garages.search.landmark")} className="inline-form" onSubmit={search}>
        <label htmlFor="garage-q">{t("garages.search.label")}</label>
        <input
          id="garage-q"
          type="search"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={100}
        />
        <button type="submit">{t("garages.search.submit")}</button>
        {q && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft("");
              setParams({});
            }}
          >
            {t("garages.search.clear")}
          </button>
        )}
      </form>
      {garages.isPending ? (
        <Loading />
      ) : garages.isError ? (
        <ErrorState error={garages.error} onRetry={() => garages.refetch()} />
      ) : garages.data.items.length === 0 ? (
        <Empty>{q ? t("garages.emptySearch", { q }) : t("garages.empty")}</Empty>
      ) : (
        <>
          <Table
            rows={garages.data.items}
            rowKey={(g) => g.id}
            columns={[
              { label: t("garages.col.name"), cell: (g) => <Link to={`/garages/${g.id}`}>{g.name}</Link> },
              { label: t("garages.col.address"), cell: (g) => g.address },
              {
                label: t("garages.col.vehicles"),
                num: true,
                cell: (g) => (
                  <>
                    {g.capacity === null
                      ? t("garages.count", { count: g.vehicle_count })
                      : t("garages.countOf", { count: g.vehicle_count, capacity: g.capacity })}
                    {g.capacity !== null && g.vehicle_count >= g.capacity && (
                      <span className="badge">{t("garages.full")}</span>
                    )}
                  </>
                ),
              },
            ]}
          />
          <Pager nextCursor={garages.data.next_cursor} />
        </>
      )}
    </section>
  );
}
