"""Similarity across candidates (SPEC §11.4): winnowing fingerprints of each code submission's
cutoff tree, the template's own code subtracted, compared with the simulation's earlier
submissions of the same template; pairs above a threshold, with their matched regions, are
shown to recruiters for a human to review, never as a verdict."""
