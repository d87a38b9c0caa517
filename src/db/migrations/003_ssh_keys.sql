-- SSH key pairs made by the service for bastion tunnels: the public half is shown so users can install it on
-- their bastion; a target refers to one by id (sequin_targets.ssh_tunnel->>'key_id').

create table sequin_ssh_keys (
  id uuid primary key,
  -- one authorized_keys line: ssh-ed25519 AAAA… sequin
  public_key text not null,
  -- AES-256-GCM with the vault key: never logged, never returned
  private_key_encrypted bytea not null,
  inserted_at timestamptz not null default now()
);
