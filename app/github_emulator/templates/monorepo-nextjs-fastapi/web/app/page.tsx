import { CreateGroupForm } from "../components/CreateGroupForm";

export default function HomePage() {
  return (
    <>
      <h1>Kitty</h1>
      <p>Share the costs of a flat or a trip, and see who owes whom.</p>
      <CreateGroupForm />
    </>
  );
}
