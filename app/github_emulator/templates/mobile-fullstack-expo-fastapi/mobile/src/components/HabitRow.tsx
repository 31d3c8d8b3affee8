import { Pressable, StyleSheet, Text, View } from "react-native";

import { streakLabel, weekStrip } from "../lib/format";
import type { Habit } from "../lib/types";

interface Props {
  habit: Habit;
  onToggle: (habitId: number) => void;
}

export function HabitRow({ habit, onToggle }: Props) {
  return (
    <Pressable
      accessibilityRole="checkbox"
      accessibilityState={{ checked: habit.done_today }}
      onPress={() => onToggle(habit.id)}
      style={styles.row}
    >
      <View style={[styles.check, habit.done_today && styles.checked]} />
      <View style={styles.text}>
        <Text style={styles.name}>{habit.name}</Text>
        <Text style={styles.detail}>
          {streakLabel(habit.current_streak)} · best {habit.longest_streak}
        </Text>
      </View>
      <Text style={styles.week}>{weekStrip(habit.last_7_days)}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: "row", alignItems: "center", paddingVertical: 12, gap: 12 },
  check: { width: 28, height: 28, borderRadius: 14, borderWidth: 2, borderColor: "#2da44e" },
  checked: { backgroundColor: "#2da44e" },
  text: { flex: 1 },
  name: { fontSize: 17, fontWeight: "600" },
  detail: { color: "#57606a", marginTop: 2 },
  week: { color: "#2da44e", letterSpacing: 2 },
});
