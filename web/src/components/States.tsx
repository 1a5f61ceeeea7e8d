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
