import { notFound } from "next/navigation";

import { GroupView } from "../../../components/GroupView";

export default async function GroupPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const groupId = Number(id);
  if (!Number.isInteger(groupId) || groupId < 1) notFound();
  return <GroupView groupId={groupId} />;
}
