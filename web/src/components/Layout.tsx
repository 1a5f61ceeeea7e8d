import { useState, type FormEvent } from "react";
import { Link, Outlet, useNavigate } from "react-router";

import { useCan } from "../access";
import { LANGUAGES, useI18n, type Language } from "../i18n";
import * as rules from "../validation";
import { ApiKey } from "./ApiKey";

export function Layout() {
  const { t, language, setLanguage } = useI18n();
  const navigate = useNavigate();
  const [plate, setPlate] = useState("");
  const mayAdmin = useCan("admin");
  const search = (event: FormEvent) => {
    event.preventDefault();
    const text = plate.trim();
    if (!text) return;
    // 17 letters and digits without I, O, Q: a VIN; anything else: a plate.
    const field = rules.vin(text) === null ? "vin" : "plate";
    navigate(`/vehicles?${field}=${encodeURIComponent(text)}`);
  };
  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="top">
        <Link to="/" className="brand">
          {t("app.title")} <span>{t("app.tagline")}</span>
        </Link>
        <Link to="/garages" className="nav-link">
          {t("nav.garages")}
        </Link>
        <Link to="/vehicles" className="nav-link">
          {t("nav.vehicles")}
        </Link>
        <Link to="/reminders" className="nav-link">
          {t("nav.reminders")}
        </Link>
        <Link to="/activity" className="nav-link">
          {t("nav.activity")}
        </Link>
        <Link to="/vehicles/import-export" className="nav-link">
          {t("nav.importExport")}
        </Link>
        {mayAdmin && (
          <>
            <Link to="/keys" className="nav-link">
              {t("nav.keys")}
            </Link>
            <Link to="/webhooks" className="nav-link">
              {t("nav.webhooks")}
            </Link>
          </>
        )}
        <form role="search" aria-label={t("search.landmark")} onSubmit={search} className="plate-search">
          <label htmlFor="plate-search" className="visually-hidden">
            {t("search.plate.label")}
          </label>
          <input
            id="plate-search"
            type="search"
            value={plate}
            placeholder={t("search.plate.placeholder")}
            title={t("search.plate.label")}
            onChange={(e) => setPlate(e.target.value)}
          />
          <button type="submit">{t("search.plate.submit")}</button>
        </form>
        <ApiKey />
        <label className="language">
          <span className="visually-hidden">{t("nav.language")}</span>
          <select
            value={language}
            onChange={(e) => setLanguage(e.target.value as Language)}
            aria-label={t("nav.language")}
          >
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {l === "fr" ? "Français" : "English"}
              </option>
            ))}
          </select>
        </label>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
