// A seconds countdown for "resend in N s" and "try again in N s".
export class Countdown {
  remaining = $state(0);
  private timer: ReturnType<typeof setInterval> | undefined;

  get running(): boolean {
    return this.remaining > 0;
  }

  start(seconds: number): void {
    this.stop();
    this.remaining = Math.max(0, Math.ceil(seconds));
    if (this.remaining === 0) return;
    this.timer = setInterval(() => {
      this.remaining = Math.max(0, this.remaining - 1);
      if (this.remaining === 0) this.stop();
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
