// Light and dark theme: "system" follows prefers-color-scheme; a chosen theme is remembered.
export type ThemeChoice = "system" | "light" | "dark";
export const THEME_KEY = "awf.theme";

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

class Theme {
  choice = $state<ThemeChoice>(stored());

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      if (choice === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, choice);
    } catch {
      // Unavailable storage: the choice lasts for this session only.
    }
    this.apply();
  }

  /** Puts the choice on <html data-theme>, which the CSS variables key off. */
  apply(): void {
    if (typeof document === "undefined") return;
    if (this.choice === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = this.choice;
  }
}

export const theme = new Theme();
