"""Pages for requisitions and compensation claims: submit, review, pay, the ledger."""
