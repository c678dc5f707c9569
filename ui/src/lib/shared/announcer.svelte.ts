// One polite aria-live region for status messages ("Created …", "Restored …").
class Announcer {
  message = $state("");
  private timer: ReturnType<typeof setTimeout> | undefined;

  say(message: string): void {
    this.message = message;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.message = ""), 6000);
  }
}

export const announcer = new Announcer();
