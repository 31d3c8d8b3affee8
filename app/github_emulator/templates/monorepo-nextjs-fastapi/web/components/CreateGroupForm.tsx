"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { ApiError, createKittyApi } from "../lib/api";
import { API_BASE } from "../lib/config";
import { type GroupDraft, validateGroup } from "../lib/validation";

const api = createKittyApi(API_BASE);

export function CreateGroupForm() {
  const router = useRouter();
  const [draft, setDraft] = useState<GroupDraft>({ name: "", members: "" });
  const [errors, setErrors] = useState<Partial<Record<keyof GroupDraft, string>>>({});
  const [failure, setFailure] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = validateGroup(draft);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    setFailure(null);
    try {
      const group = await api.createGroup(result.value);
      router.push(`/groups/${group.id}`);
    } catch (error) {
      setFailure(error instanceof ApiError ? error.message : String(error));
    }
  }

  return (
    <section>
      <h2>New group</h2>
      <form onSubmit={submit} noValidate>
        <label>
          Name
          <input
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          />
          {errors.name && <span className="error">{errors.name}</span>}
        </label>
        <label>
          Members (one per line, or separated by commas)
          <textarea
            rows={4}
            value={draft.members}
            onChange={(e) => setDraft({ ...draft, members: e.target.value })}
          />
          {errors.members && <span className="error">{errors.members}</span>}
        </label>
        <button type="submit">Create the group</button>
        {failure && <p className="error">{failure}</p>}
      </form>
    </section>
  );
}
