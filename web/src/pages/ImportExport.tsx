import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { useCan } from "../access";
import {
  api,
  ApiError,
  datedName,
  newIdempotencyKey,
  saveFile,
  type ExportFormat,
  type Garage,
} from "../api";
import { GaragePicker } from "../components/GaragePicker";
import { ErrorState } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { describeItem } from "../problems";

/** Errors listed at most; the rest are counted. */
const SHOWN_ERRORS = 200;

/** `/vehicles/import-export`: export vehicles as CSV or JSON, import them from CSV. */
export function ImportExport() {
  const { t } = useI18n();
  useTitle(t("importExport.title"));
  const mayWrite = useCan("write");
  return (
    <section aria-labelledby="import-export-title">
      <h1 id="import-export-title">{t("importExport.title")}</h1>
      <Export />
      {mayWrite && <Import />}
    </section>
  );
}

function Export() {
  const { t, language } = useI18n();
  const [garage, setGarage] = useState<Garage | null>(null);
  // Spreadsheets in French locales split on ";".
  const [separator, setSeparator] = useState<"comma" | "semicolon">(
    language === "fr" ? "semicolon" : "comma",
  );
  const run = useMutation({
    mutationFn: async (format: ExportFormat) => {
      const csv = format === "csv" ? { separator, bom: true } : {};
      const file = await api.exportVehicles(format, { garage_id: garage?.id, ...csv });
      // Fetched with the tab's key, then saved through a temporary link.
      saveFile(file, datedName("vehicles", format));
    },
  });
  return (
    <div className="panel">
      <h2>{t("importExport.export.title")}</h2>
      <p>{t("importExport.export.help")}</p>
      <div className="field">
        <GaragePicker
          id="export-garage"
          label={t("importExport.export.garage")}
          value={garage?.id ?? null}
          onChange={setGarage}
          needs={0}
        />
        {garage && (
          <button type="button" className="link" onClick={() => setGarage(null)}>
            {t("importExport.export.all")}
          </button>
        )}
      </div>
      <div className="field">
        <label htmlFor="export-separator">{t("importExport.export.separator")}</label>
        <select
          id="export-separator"
          value={separator}
          onChange={(e) => setSeparator(e.target.value as "comma" | "semicolon")}
        >
          <option value="semicolon">{t("importExport.export.semicolon")}</option>
          <option value="comma">{t("importExport.export.comma")}</option>
        </select>
      </div>
      <div className="actions">
        <button type="button" disabled={run.isPending} onClick={() => run.mutate("csv")}>
          {t("importExport.export.csv")}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={run.isPending}
          onClick={() => run.mutate("json")}
        >
          {t("importExport.export.json")}
        </button>
      </div>
      {run.isError && <ErrorState error={run.error} />}
    </div>
  );
}

function Import() {
  const { t, language } = useI18n();
  // A template a spreadsheet opens as it is: the user's language's headers
  // and separator, a byte order mark, one example row.
  const template =
    language === "fr"
      ? "\ufeffimmatriculation;marque;modèle;année;garage;vin;mise en circulation;kilométrage\r\nAB-123-CD;Renault;Clio;2021;Dépôt Nord;;15/03/2021;42350\r\n"
      : "\ufefflicense_plate,brand,model,year,garage,vin,registered_on,odometer_km\r\nAB-123-CD,Renault,Clio,2021,North depot,,2021-03-15,42350\r\n";
  const templateHref = `data:text/csv;charset=utf-8,${encodeURIComponent(template)}`;
  const [file, setFile] = useState<File | null>(null);
  const [upsert, setUpsert] = useState(false);
  // Keys per file, one for the check and one for the import: a resent
  // import of the same file is answered again, never imported twice.
  const [keys, setKeys] = useState(() => ({ check: newIdempotencyKey(), run: newIdempotencyKey() }));
  const run = useMutation({
    // The mode travels with the request: the answer is told in the mode it
    // was asked in, whatever the checkbox says by the time it comes.
    mutationFn: ({ file, dryRun, upsert }: { file: File; dryRun: boolean; upsert: boolean }) =>
      api.importVehicles(file, dryRun, dryRun ? keys.check : keys.run, upsert),
  });
  const submit = (dryRun: boolean) => (event?: FormEvent) => {
    event?.preventDefault();
    if (file) run.mutate({ file, dryRun, upsert });
  };
  const rejected =
    run.error instanceof ApiError && run.error.type === "/problems/import-rejected" ? run.error : null;
  return (
    <form className="panel" onSubmit={submit(false)} noValidate>
      <h2>{t("importExport.import.title")}</h2>
      <p>{t("importExport.import.help")}</p>
      <div className="field">
        <label htmlFor="import-file">{t("importExport.import.file")}</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,text/csv"
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setKeys({ check: newIdempotencyKey(), run: newIdempotencyKey() });
            run.reset();
          }}
        />
      </div>
      <div className="field checkbox">
        <label>
          <input
            type="checkbox"
            checked={upsert}
            disabled={run.isPending}
            onChange={(e) => {
              setUpsert(e.target.checked);
              setKeys({ check: newIdempotencyKey(), run: newIdempotencyKey() });
              run.reset();
            }}
          />{" "}
          {t("importExport.import.upsert")}
        </label>
        <small className="hint">{t("importExport.import.upsertHint")}</small>
      </div>
      <p>
        <a href={templateHref} download={t("importExport.import.templateName")}>
          {t("importExport.import.template")}
        </a>
      </p>
      <div className="actions">
        <button type="button" className="secondary" disabled={!file || run.isPending} onClick={submit(true)}>
          {t("importExport.import.check")}
        </button>
        <button type="submit" disabled={!file || run.isPending}>
          {t("importExport.import.run")}
        </button>
      </div>
      {run.isSuccess && (
        <p className="notice" role="status">
          {run.data.dry_run
            ? run.variables.upsert
              ? t("importExport.import.preview", {
                  count: run.data.imported,
                  updated: run.data.updated,
                  unchanged: run.data.unchanged,
                })
              : t("importExport.import.checked", { count: run.data.rows })
            : run.variables.upsert
              ? t("importExport.import.upserted", {
                  count: run.data.imported,
                  updated: run.data.updated,
                  unchanged: run.data.unchanged,
                })
              : t("importExport.import.done", { count: run.data.imported })}
        </p>
      )}
      {rejected ? (
        <div role="alert">
          <p className="error">{t("importExport.import.rejected", { count: rejected.errors.length })}</p>
          <Table
            rows={rejected.errors.slice(0, SHOWN_ERRORS)}
            rowKey={(_, i) => i}
            columns={[
              { label: t("importExport.col.line"), num: true, cell: (e) => e.line ?? "" },
              { label: t("importExport.col.column"), cell: (e) => e.field ?? "—" },
              { label: t("importExport.col.problem"), cell: (e) => describeItem(e, t) },
            ]}
          />
          {rejected.errors.length > SHOWN_ERRORS && (
            <p>{t("importExport.import.more", { count: rejected.errors.length - SHOWN_ERRORS })}</p>
          )}
        </div>
      ) : (
        run.isError && <ErrorState error={run.error} />
      )}
    </form>
  );
}
