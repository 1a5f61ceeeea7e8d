import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, type ApiKeyInfo, type CreatedKey, type Scope } from "../api";
import { Field } from "../components/Field";
import { SecretOnce } from "../components/SecretOnce";
import { AdminPage, ListOf } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { describe, fieldErrors } from "../problems";

const SCOPES: Scope[] = ["read", "write", "admin"];

/** `/keys`: an administrator lists, creates and revokes API keys. */
export function Keys() {
  const { t } = useI18n();
  useTitle(t("keys.title"));
  return (
    <AdminPage id="keys-title" title={t("keys.title")} forbidden={t("keys.forbidden")}>
      <KeysBody />
    </AdminPage>
  );
}

function KeysBody() {
  const { t } = useI18n();
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const keys = useQuery({ queryKey: ["keys"], queryFn: api.listKeys });
  return (
    <>
      <p>{t("keys.help")}</p>
      {created ? (
        <SecretOnce
          title={t("keys.secret.title", { name: created.name })}
          note={t("keys.secret.once")}
          secret={created.secret}
          onDone={() => setCreated(null)}
        />
      ) : (
        <NewKey onCreated={setCreated} />
      )}
      <ListOf query={keys} empty={t("keys.none")}>
        {(items) => <KeyTable keys={items} />}
      </ListOf>
    </>
  );
}

function NewKey({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<Scope>("read");
  const [garages, setGarages] = useState<number[]>([]);
  const all = useQuery({
    queryKey: ["garages", { all: true }],
    queryFn: () => api.listGarages({ limit: 200 }),
  });
  const create = useMutation({
    mutationFn: () => api.createKey({ name: name.trim(), scope, garages: garages.length ? garages : null }),
    onSuccess: async (key) => {
      setName("");
      setGarages([]);
      onCreated(key);
      await queryClient.invalidateQueries({ queryKey: ["keys"] });
    },
  });
  const errors = fieldErrors(create.error, t);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) create.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} noValidate>
      <h2>{t("keys.new.title")}</h2>
      <Field
        label={t("keys.new.name")}
        value={name}
        maxLength={100}
        required
        error={errors.name}
        onChange={(e) => setName(e.target.value)}
      />
      <div className="field">
        <label htmlFor="key-scope">{t("keys.new.scope")}</label>
        <select id="key-scope" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
          {SCOPES.map((s) => (
            <option key={s} value={s}>
              {t(`scope.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="key-garages">{t("keys.new.garages")}</label>
        <select
          id="key-garages"
          multiple
          size={Math.min(6, Math.max(2, all.data?.items.length ?? 2))}
          value={garages.map(String)}
          onChange={(e) => setGarages(Array.from(e.target.selectedOptions, (o) => Number(o.value)))}
        >
          {(all.data?.items ?? []).map((g) => (
            <option key={g.id} value={g.id}>
              {g.name}
            </option>
          ))}
        </select>
        {errors.garages && <p className="field-error">{errors.garages}</p>}
      </div>
      {create.isError && !Object.keys(errors).length && (
        <p className="error" role="alert">
          {describe(create.error, t)}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={create.isPending || !name.trim()}>
          {t("keys.new.create")}
        </button>
      </div>
    </form>
  );
}

function KeyTable({ keys }: { keys: ApiKeyInfo[] }) {
  const { t, formatDate } = useI18n();
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: (key: ApiKeyInfo) => api.revokeKey(key.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["keys"] }),
  });
  return (
    <>
      {revoke.isSuccess && (
        <p className="notice" role="status">
          {t("keys.revoked.done", { name: revoke.variables.name })}
        </p>
      )}
      {revoke.isError && (
        <p className="error" role="alert">
          {describe(revoke.error, t)}
        </p>
      )}
      <Table
        rows={keys}
        rowKey={(k) => k.id}
        rowProps={(k) => ({ className: k.revoked_at ? "revoked" : undefined })}
        columns={[
          { label: t("keys.col.name"), cell: (k) => k.name },
          { label: t("keys.col.prefix"), cellClass: "plate", cell: (k) => `${k.prefix}…` },
          { label: t("keys.col.scope"), cell: (k) => t(`scope.${k.scope}`) },
          { label: t("keys.col.garages"), cell: (k) => (k.garages ? k.garages.join(", ") : t("keys.all")) },
          {
            label: t("keys.col.lastUsed"),
            cell: (k) => (k.last_used_at ? formatDate(k.last_used_at) : t("keys.never")),
          },
          {
            label: t("keys.col.state"),
            cell: (k) =>
              k.revoked_at ? t("keys.revoked", { date: formatDate(k.revoked_at) }) : t("keys.active"),
          },
          {
            label: t("vehicle.col.actions"),
            actions: true,
            cell: (k) =>
              !k.revoked_at && (
                <button
                  type="button"
                  className="link danger"
                  aria-label={`${t("keys.revoke")} ${k.name}`}
                  disabled={revoke.isPending}
                  onClick={() => {
                    if (window.confirm(t("keys.revoke.confirm", { name: k.name }))) revoke.mutate(k);
                  }}
                >
                  {t("keys.revoke")}
                </button>
              ),
          },
        ]}
      />
    </>
  );
}
