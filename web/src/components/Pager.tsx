import { Link, useLocation, useSearchParams } from "react-router";

import { useI18n } from "../i18n";

/** Keyset paging kept in the URL (`cursor`), so each page can be bookmarked. */
export function Pager({ nextCursor }: { nextCursor: string | null }) {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const { pathname } = useLocation();
  const at = (cursor: string | null) => {
    const next = new URLSearchParams(params);
    if (cursor) next.set("cursor", cursor);
    else next.delete("cursor");
    const query = next.toString();
    return query ? `${pathname}?${query}` : pathname;
  };
  if (!params.get("cursor") && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={t("page.nav")}>
      {params.get("cursor") && <Link to={at(null)}>← {t("page.first")}</Link>}
      {nextCursor && (
        <Link to={at(nextCursor)} rel="next">
          {t("page.next")} →
        </Link>
      )}
    </nav>
  );
}
