"""Claims to bill: the claim model the 837 writers take, and emitting claim files from the
ready-to-bill marts with control numbers and submission records kept in the warehouse."""
