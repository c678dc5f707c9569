import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";
import { Api, selectBackend } from "./lib/api/client";
import { theme } from "./lib/shared/theme.svelte";
import { i18n } from "./lib/i18n/i18n.svelte";
import { markFirstInteractivePaint, markPhase } from "./lib/perf";

markPhase("script");
theme.apply();
i18n.reset();

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

void markFirstInteractivePaint(target);
const app = mount(App, { target, props: { api: new Api(selectBackend()) } });
markPhase("mounted");
export default app;
