import { useEffect } from "react";

import { useI18n } from "../i18n";

/** Names the browser tab after the page: "<title> · Garage", in the user's language. */
export function useTitle(title: string | null | undefined) {
  const { t } = useI18n();
  const app = t("app.title");
  useEffect(() => {
    document.title = title ? `${title} · ${app}` : app;
  }, [title, app]);
}
