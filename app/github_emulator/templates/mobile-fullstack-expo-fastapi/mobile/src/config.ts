// Where the phone finds the API. On a real phone 127.0.0.1 is the phone itself: start Expo
// with EXPO_PUBLIC_API_URL set to an address the phone can reach (see the README).
export const API_URL = process.env.EXPO_PUBLIC_API_URL ?? "http://127.0.0.1:8000";
