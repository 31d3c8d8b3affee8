import { registerRootComponent } from "expo";

import App from "./App";

// Expo Go and native builds both start the app from here.
registerRootComponent(App);
