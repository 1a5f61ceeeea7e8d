import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { allows, useMe } from "../access";
import { api, apiKey, ApiError } from "../api";
import { useI18n } from "../i18n";

/**
 * Signing in with an API key: a dialog to paste it, then who is signed in
 * and with which scope. Nothing at all while the server is open (no key
 * exists). The key is kept for this tab only.
 */
export function ApiKey() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const dialog = useRef<HTMLDialogElement>(null);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const signedIn = apiKey.get() !== null && me !== undefined && me.name !== "anonymous";

  useEffect(() => {
    if (!dialog.current?.open) setError(null);
  }, [me]);

  if (!me || (me.open && !signedIn)) return null;

  /** Everything read so far was read as someone else. */
  const refresh = () => queryClient.resetQueries();

  const signIn = async (event: FormEvent) => {
    event.preventDefault();
    const key = draft.trim();
    if (!key) return;
    setChecking(true);
    setError(null);
    apiKey.set(key);
    try {
      await api.me();
      setDraft("");
      dialog.current?.close();
      await refresh();
    } catch (err) {
      apiKey.set(null);
      setError(
        err instanceof ApiError && err.status === 401
          ? t("key.invalid")
          : err instanceof ApiError && err.status === 429
            ? t("key.tooMany")
            : t("state.unreachable"),
      );
    } finally {
      setChecking(false);
    }
  };

  const signOut = async () => {
    apiKey.set(null);
    await refresh();
  };

  return (
    <div className="api-key">
      {signedIn ? (
        <>
          <span
            className="signed-in"
            title={me.garages ? t("key.limited", { garages: me.garages.join(", ") }) : undefined}
          >
            {t("key.signedIn", { name: me.name })}{" "}
            <span className="badge ok">{t(`scope.${me.scope ?? "read"}`)}</span>
          </span>
          <button type="button" className="secondary" onClick={signOut}>
            {t("key.signOut")}
          </button>
        </>
      ) : (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setError(null);
            dialog.current?.showModal();
          }}
        >
          {allows(me, "read") ? t("key.signIn") : t("key.signInToRead")}
        </button>
      )}
      <dialog ref={dialog} aria-labelledby="sign-in-title" className="sign-in">
        <form onSubmit={signIn}>
          <h2 id="sign-in-title">{t("key.title")}</h2>
          <p className="hint">{t("key.hint")}</p>
          <label htmlFor="api-key-input">{t("key.label")}</label>
          <input
            id="api-key-input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
          />
          {error && (
            <p role="alert" className="field-error">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="submit" disabled={checking || !draft.trim()}>
              {t("key.save")}
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              {t("key.cancel")}
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
