"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { checkGroupForm, type FormErrors, type GroupForm } from "@/lib/forms";
import { api } from "@/components/api";

export function NewGroupForm() {
  const router = useRouter();
  const [form, setForm] = useState<GroupForm>({ name: "", members: "" });
  const [errors, setErrors] = useState<FormErrors<GroupForm>>({});
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const check = checkGroupForm(form);
    setErrors(check.ok ? {} : check.errors);
    if (!check.ok) return;
    try {
      const group = await api.createGroup(check.request);
      router.push(`/groups/${group.id}`);
    } catch (err) {
      setProblem((err as Error).message);
    }
  }

  return (
    <form onSubmit={submit}>
      <h2>Start a group</h2>
      <label>
        Name{" "}
        <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        {errors.name && <span className="error"> {errors.name}</span>}
      </label>
      <label>
        People (one per line, or separated by commas)
        <textarea
          rows={4}
          value={form.members}
          onChange={(e) => setForm({ ...form, members: e.target.value })}
        />
        {errors.members && <span className="error"> {errors.members}</span>}
      </label>
      {problem && <p className="error">{problem}</p>}
      <button type="submit">Create</button>
    </form>
  );
}
