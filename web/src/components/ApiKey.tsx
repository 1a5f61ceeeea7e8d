import { useState, type FormEvent } from "react";

import { apiKey } from "../api";
import { useI18n } from "../i18n";

/** Where a user enters the API key writes need; kept for this tab only. */
export function ApiKey() {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState(() => apiKey.get() !== null);
  const [draft, setDraft] = useState("");
  const save = (event: FormEvent) => {
    event.preventDefault();
    apiKey.set(draft.trim() || null);
    setSaved(draft.trim() !== "");
    setDraft("");
    setOpen(false);
  };
  return (
    <div className="api-key">
      <button type="button" className="secondary" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        {t("key.button")}
        {saved && <span className="badge ok">{t("key.set")}</span>}
      </button>
      {open && (
        <form onSubmit={save} className="api-key-form">
          <label htmlFor="api-key-input">{t("key.label")}</label>
          <input id="api-key-input" type="password" autoComplete="off" value={draft} onChange={(e) => setDraft(e.target.value)} />
          <button type="submit">{t("key.save")}</button>
          {saved && (
            <button
              type="button"
              className="secondary"
              onClick={() => {
                apiKey.set(null);
                setSaved(false);
                setOpen(false);
              }}
            >
              {t("key.clear")}
            </button>
          )}
        </form>
      )}
    </div>
  );
}
