import { Link } from "react-router";

import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";

export function NotFound() {
  const { t } = useI18n();
  useTitle(t("state.notFound"));
  return (
    <section>
      <h1>{t("state.notFound")}</h1>
      <Link to="/">{t("state.backHome")}</Link>
    </section>
  );
}
