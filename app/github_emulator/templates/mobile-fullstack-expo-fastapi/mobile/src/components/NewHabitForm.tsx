import { useState } from "react";
import { Pressable, StyleSheet, Text, TextInput, View } from "react-native";

import { validateHabitName } from "../lib/validation";

interface Props {
  existing: string[];
  /** Resolves to an error message, or null once the habit exists. */
  onAdd: (name: string) => Promise<string | null>;
}

export function NewHabitForm({ existing, onAdd }: Props) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    const check = validateHabitName(name, existing);
    if (!check.ok) {
      setError(check.error);
      return;
    }
    const failure = await onAdd(check.name);
    setError(failure);
    if (failure === null) setName("");
  }

  return (
    <View style={styles.form}>
      <View style={styles.line}>
        <TextInput
          placeholder="A new habit"
          value={name}
          onChangeText={setName}
          onSubmitEditing={submit}
          style={styles.input}
        />
        <Pressable accessibilityRole="button" onPress={submit} style={styles.button}>
          <Text style={styles.buttonText}>Add</Text>
        </Pressable>
      </View>
      {error !== null && <Text style={styles.error}>{error}</Text>}
    </View>
  );
}

const styles = StyleSheet.create({
  form: { paddingVertical: 12 },
  line: { flexDirection: "row", gap: 8 },
  input: { flex: 1, borderWidth: 1, borderColor: "#d0d7de", borderRadius: 6, padding: 8 },
  button: {
    backgroundColor: "#2da44e",
    borderRadius: 6,
    paddingHorizontal: 16,
    justifyContent: "center",
  },
  buttonText: { color: "#fff", fontWeight: "600" },
  error: { color: "#cf222e", marginTop: 4 },
});
