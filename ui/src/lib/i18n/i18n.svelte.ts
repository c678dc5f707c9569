// The UI language: follows the system language until the user picks one, which is remembered.
import { en, zhCN, type MessageKey, type Messages } from "./messages";

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly Locale[] = ["en", "zh-CN"];
export const LOCALE_KEY = "awf.locale";

const DICTIONARIES: Record<Locale, Messages> = { en, "zh-CN": zhCN };

/** The locale the system asks for: any `zh*` language gets Simplified Chinese. */
export function systemLocale(languages: readonly string[] = navigatorLanguages()): Locale {
  const first = languages[0] ?? "en";
  return first.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function navigatorLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return ["en"];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

function storedLocale(): Locale | null {
  try {
    const v = localStorage.getItem(LOCALE_KEY);
    return v === "en" || v === "zh-CN" ? v : null;
  } catch {
    return null;
  }
}

class I18n {
  locale = $state<Locale>(storedLocale() ?? systemLocale());

  /** Switches the language and remembers the choice. */
  set(locale: Locale): void {
    this.locale = locale;
    try {
      localStorage.setItem(LOCALE_KEY, locale);
    } catch {
      // Storage may be unavailable (private mode); the switch still applies to this session.
    }
    if (typeof document !== "undefined") document.documentElement.lang = locale;
  }

  /** Re-reads the stored choice or the system language (used at start-up and by tests). */
  reset(): void {
    this.locale = storedLocale() ?? systemLocale();
    if (typeof document !== "undefined") document.documentElement.lang = this.locale;
  }

  /**
   * The message for `key` in the current language, with `{placeholders}` filled in. A
   * `{name|one|other}` placeholder picks a word by the number `name` (English plurals:
   * "{count} {count|tool|tools}").
   */
  t = (key: MessageKey, params?: Record<string, string | number>): string => {
    const template = DICTIONARIES[this.locale][key];
    if (!params) return template;
    return template
      .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (whole, name: string, one: string, other: string) =>
        name in params ? (Number(params[name]) === 1 ? one : other) : whole,
      )
      .replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

export const i18n = new I18n();
export const t = i18n.t;
