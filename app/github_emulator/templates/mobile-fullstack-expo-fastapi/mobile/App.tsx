import { StatusBar } from "expo-status-bar";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { FlatList, RefreshControl, StyleSheet, Text, View } from "react-native";

import { HabitRow } from "./src/components/HabitRow";
import { NewHabitForm } from "./src/components/NewHabitForm";
import { API_URL } from "./src/config";
import { ApiError, createStreaksApi } from "./src/lib/api";
import { dayKey } from "./src/lib/dates";
import { syncLabel } from "./src/lib/format";
import { habitsReducer, initialHabitsState, shownHabits } from "./src/lib/habits";
import { flush, type PendingChange } from "./src/lib/outbox";

const api = createStreaksApi(API_URL);

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

function send(change: PendingChange): Promise<void> {
  return change.done
    ? api.checkIn(change.habitId, change.day)
    : api.undoCheckIn(change.habitId, change.day);
}

export default function App() {
  const [state, dispatch] = useReducer(habitsReducer, dayKey(new Date()), initialHabitsState);
  const [refreshing, setRefreshing] = useState(false);
  // Bumped by pull-to-refresh: sends what is still waiting after being offline.
  const [attempt, setAttempt] = useState(0);
  const flushing = useRef(false);

  const load = useCallback(async () => {
    const today = dayKey(new Date());
    try {
      dispatch({ type: "loaded", today, habits: await api.listHabits(today) });
    } catch (error) {
      dispatch({ type: "failed", error: messageOf(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // One flush at a time; a change made meanwhile goes with the next one.
  useEffect(() => {
    if (state.outbox.length === 0 || flushing.current) return;
    flushing.current = true;
    void flush(state.outbox, send).then((result) => {
      flushing.current = false;
      dispatch({ type: "flushed", result });
    });
  }, [state.outbox, attempt]);

  async function refresh() {
    setRefreshing(true);
    setAttempt((count) => count + 1);
    await load();
    setRefreshing(false);
  }

  async function addHabit(name: string): Promise<string | null> {
    try {
      dispatch({ type: "added", habit: await api.createHabit(name) });
      return null;
    } catch (error) {
      return messageOf(error);
    }
  }

  return (
    <View style={styles.screen}>
      <Text style={styles.title}>Streaks</Text>
      <Text style={styles.sync}>{syncLabel(state.outbox.length)}</Text>
      {state.error !== null && <Text style={styles.error}>{state.error}</Text>}
      <FlatList
        data={shownHabits(state)}
        keyExtractor={(habit) => String(habit.id)}
        renderItem={({ item }) => (
          <HabitRow habit={item} onToggle={(habitId) => dispatch({ type: "toggled", habitId })} />
        )}
        ListEmptyComponent={<Text style={styles.empty}>No habits yet: add one below.</Text>}
        refreshControl={<RefreshControl refreshing={refreshing} onRefresh={refresh} />}
      />
      <NewHabitForm existing={state.habits.map((habit) => habit.name)} onAdd={addHabit} />
      <StatusBar style="dark" />
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, backgroundColor: "#fff", paddingTop: 64, paddingHorizontal: 20 },
  title: { fontSize: 28, fontWeight: "700" },
  sync: { color: "#57606a", marginVertical: 4 },
  error: { color: "#cf222e", marginVertical: 4 },
  empty: { color: "#57606a", paddingVertical: 24 },
});
