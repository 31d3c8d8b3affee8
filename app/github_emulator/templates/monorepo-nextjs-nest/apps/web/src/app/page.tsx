import { NewGroupForm } from "@/components/NewGroupForm";

export default function HomePage() {
  return (
    <>
      <h1>Kitty</h1>
      <p>Keep track of what a group spends together, and of who owes whom.</p>
      <NewGroupForm />
    </>
  );
}
