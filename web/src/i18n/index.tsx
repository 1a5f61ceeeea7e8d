import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { en, type MessageKey } from "./en";
import { fr } from "./fr";

export type Language = "fr" | "en";
export const LANGUAGES: Language[] = ["fr", "en"];
const catalogues: Record<Language, Record<MessageKey, string>> = { en, fr };
const STORAGE_KEY = "garage.language";

/** The saved choice, else the browser's first French or English language, else French. */
export function detectLanguage(saved: string | null, preferred: readonly string[]): Language {
  if (saved === "fr" || saved === "en") return saved;
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "fr" || base === "en") return base;
  }
  return "fr";
}

export type Params = Record<string, string | number>;
/** A message said in the plural forms of each language: `<key>.one`, `<key>.other`, chosen by `count`. */
export type PluralKey = { [K in MessageKey]: K extends `${infer Base}.other` ? Base : never }[MessageKey];
export type Translate = (key: MessageKey | PluralKey, params?: Params) => string;

const localeOf = (language: Language) => (language === "fr" ? "fr-FR" : "en-GB");

/** The message `key` in `language`, its `{placeholders}` filled; a plural key takes the form `count` needs. */
export function translate(language: Language, key: MessageKey | PluralKey, params: Params = {}): string {
  const locale = localeOf(language);
  const catalogue: Record<string, string> = catalogues[language];
  let text = catalogue[key];
  if (text === undefined) {
    const form = new Intl.PluralRules(locale).select(Number(params.count));
    text = catalogue[`${key}.${form}`] ?? catalogue[`${key}.other`] ?? key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) return `{${name}}`;
    return typeof value === "number" ? new Intl.NumberFormat(locale).format(value) : value;
  });
}

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
  formatDate: (iso: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

function savedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Language }) {
  const [language, setLanguageState] = useState<Language>(
    () =>
      initial ?? detectLanguage(savedLanguage(), typeof navigator === "undefined" ? [] : navigator.languages),
  );
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }, []);
  const value = useMemo<I18n>(() => {
    const dates = new Intl.DateTimeFormat(language === "fr" ? "fr-FR" : "en-GB", {
      dateStyle: "medium",
      timeStyle: "short",
    });
    return {
      language,
      setLanguage,
      t: (key, params) => translate(language, key, params),
      formatDate: (iso) => dates.format(new Date(iso)),
    };
  }, [language, setLanguage]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
