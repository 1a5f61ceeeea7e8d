import { Link } from "react-router";

import { useI18n } from "../i18n";

export function NotFound() {
  const { t } = useI18n();
  return (
    <section>
      <h1>{t("state.notFound")}</h1>
      <Link to="/garages">{t("state.backHome")}</Link>
    </section>
  );
}
