import { useState } from "react";

import { useI18n } from "../i18n";

/** A secret shown this once, with a button that copies it. */
export function SecretOnce({
  title,
  note,
  secret,
  label,
  onDone,
}: {
  title: string;
  note: string;
  secret: string;
  /** What the secret is, for screen readers; an API key when not said. */
  label?: string;
  onDone: () => void;
}) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      // No clipboard (plain HTTP): the text is selected for the user to copy.
      const field = document.getElementById("once-secret") as HTMLInputElement | null;
      field?.select();
    }
  };
  return (
    <div className="panel secret" role="status">
      <h2>{title}</h2>
      <p>
        <strong>{note}</strong>
      </p>
      <div className="inline-form">
        <label htmlFor="once-secret" className="visually-hidden">
          {label ?? t("key.label")}
        </label>
        <input
          id="once-secret"
          readOnly
          value={secret}
          className="plate"
          onFocus={(e) => e.target.select()}
        />
        <button type="button" onClick={copy}>
          {copied ? t("keys.secret.copied") : t("keys.secret.copy")}
        </button>
      </div>
      <div className="actions">
        <button type="button" className="secondary" onClick={onDone}>
          {t("keys.secret.done")}
        </button>
      </div>
    </div>
  );
}
