import { notFound } from "next/navigation";

import { GroupLedger } from "@/components/GroupLedger";

interface Props {
  params: Promise<{ groupId: string }>;
}

export default async function GroupPage({ params }: Props) {
  const { groupId } = await params;
  const id = /^\d{1,9}$/.test(groupId) ? Number(groupId) : 0;
  if (id < 1) notFound();
  return <GroupLedger groupId={id} />;
}
