//! What a simulated phone does: its random edits, judged by its own rules and saved at once;
//! opening a record it heard of; its step (come back, connect, edit, send, save); and what
//! it makes of a frame from the server.

use super::*;

impl Sim {
    /// One random edit on the phone, judged by the phone's own rules and saved at once.
    pub(super) fn edit(&mut self, index: usize) -> Result<()> {
        let now = self.now;
        let entry = EntryId::from_random(random_bytes(&mut self.rng));
        let pick: f64 = self.rng.random();
        let phone = &self.phones[index];
        let account = phone.account.clone();
        // The documents this phone may write on: a guard its user's rounds, the office any.
        let readable: Vec<DocumentId> = phone
            .docs
            .iter()
            .filter(|(_, doc)| {
                read_record(doc).is_ok_and(|r| {
                    account.role == Role::Office || r.header().created_by == account.user_id
                })
            })
            .map(|(id, _)| *id)
            .collect();
        let estates = vec![ESTATE.to_owned()];
        let device_id = phone.device_id.clone();
        let device_key = phone.device_key.clone();
        let writer = Writer {
            user_id: &account.user_id,
            role: account.role,
            estates: &estates,
            device_id: &device_id,
            device_key: &device_key,
            verify_key: gatehouse_shared::signature::ed25519_verifies,
            estate_settings: &[],
        };
        let edited = if account.role == Role::Guard && (readable.is_empty() || pick < 0.15) {
            let log = PatrolLog::start(ESTATE, &account.user_id, "保安", "夜巡", now)
                .map_err(|p| anyhow::anyhow!("{p:?}"))?;
            let id = DocumentId::from_random(random_bytes(&mut self.rng));
            let doc = create_document(self.phones[index].actor.clone(), &log, now)?;
            self.phones[index].docs.insert(id, doc);
            Some(id)
        } else if readable.is_empty() {
            None
        } else {
            let id = readable[self.rng.random_range(0..readable.len())];
            let phone = &mut self.phones[index];
            let doc = phone.docs.get_mut(&id).expect("held");
            let result = match account.role {
                Role::Office => edit_document(doc, id, &writer, now, |log: &mut PatrolLog| {
                    log.remarks.push(
                        Remark::new(entry, "已阅", &account.user_id, "李客服", now)
                            .expect("valid remark"),
                    );
                }),
                _ if pick < 0.7 => edit_document(doc, id, &writer, now, |log: &mut PatrolLog| {
                    log.visits.push(
                        CheckpointVisit::new(entry, &account.user_id, "东门", now, "")
                            .expect("valid visit"),
                    );
                }),
                _ => edit_document(doc, id, &writer, now, |log: &mut PatrolLog| {
                    log.findings.push(
                        Finding::new(
                            entry,
                            &account.user_id,
                            "灯坏了",
                            "二号楼",
                            Severity::Low,
                            false,
                            now,
                        )
                        .expect("valid finding"),
                    );
                }),
            };
            match result {
                Ok(_) => Some(id),
                Err(error) => {
                    self.broken.push(format!(
                        "phone {index}: its own judge refused an edit of {id}: {error:?}"
                    ));
                    None
                }
            }
        };
        if let Some(id) = edited {
            self.counts.edits += 1;
            let phone = &mut self.phones[index];
            let heads = phone.docs[&id].get_heads();
            phone.written.entry(id).or_default().extend(heads);
            self.save(index, id);
        }
        Ok(())
    }

    /// The phone opens a record it has heard of (here: one the server holds): the office
    /// any, a guard one its user started (on another phone).
    pub(super) fn open_record(&mut self, index: usize) -> Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let account = &self.phones[index].account;
        let listed: Vec<_> = store
            .list_records(&[ESTATE.to_owned()], 1_000, None)?
            .into_iter()
            .filter(|r| account.role == Role::Office || r.created_by == account.user_id)
            .collect();
        if listed.is_empty() {
            return Ok(());
        }
        let id = listed[self.rng.random_range(0..listed.len())].doc;
        let phone = &mut self.phones[index];
        let actor = phone.actor.clone();
        phone
            .docs
            .entry(id)
            .or_insert_with(|| Automerge::new().with_actor(actor));
        Ok(())
    }

    /// What a phone does in one step: come back, connect, edit, send what it has, save.
    pub(super) fn phone_step(&mut self, index: usize) -> Result<()> {
        if self.now < self.phones[index].down_until {
            return Ok(());
        }
        if self.chance(FAULTS.phone_crash) {
            self.phone_crash(index);
            return Ok(());
        }
        if self.chance(FAULTS.partition) {
            self.counts.partitions += 1;
            if let Some(connection) = self.phones[index].connection {
                self.break_connection(connection);
            }
            self.give_up(index);
            self.phones[index].partitioned_until = self.now + self.rng.random_range(1_000..20_000);
        }
        // Received changes are saved a moment later (a crash before loses them).
        if self.rng.random_bool(0.5) {
            let unsaved: Vec<_> = self.phones[index].unsaved.iter().copied().collect();
            for id in unsaved {
                self.save(index, id);
            }
        }
        if self.faults_on && self.rng.random_bool(0.02) {
            self.edit(index)?;
        }
        if self.faults_on && self.rng.random_bool(0.005) {
            // The office, and guard 0's second phone.
            if self.phones[index].account.role == Role::Office || index == 1 {
                self.open_record(index)?;
            }
        }
        let phone = &self.phones[index];
        if let Some(connection) = phone.connection {
            let broken = !self.connections.contains_key(&connection);
            let unanswered = phone
                .waiting_since
                .is_some_and(|since| self.now - since > SILENCE_MS);
            // The heartbeat: a ping about every second finds a broken connection.
            if unanswered || (broken && self.rng.random_bool(0.05)) {
                self.give_up(index);
            }
        } else if self.now >= phone.partitioned_until && self.server_up()? {
            let connection = self.next_connection;
            self.next_connection += 1;
            let token = self.phones[index].account.token.clone();
            self.connections.insert(
                connection,
                ServerSide {
                    token_hash: token_hash(&token).to_vec(),
                    session: SyncSession::new(),
                    version: self.phones[index].version,
                },
            );
            self.phones[index].connection = Some(connection);
        }
        let Some(connection) = self.phones[index].connection else {
            return Ok(());
        };
        let phone = &mut self.phones[index];
        // As the app does: a document the server never acknowledged any of starts as one
        // the server holds nothing of (after a crash that lost its sync state, the server
        // may hold it after all).
        let outgoing: Vec<_> = phone
            .docs
            .iter_mut()
            .filter_map(|(id, doc)| {
                if !phone.acked.contains_key(id) && !doc.get_heads().is_empty() {
                    if let Err(error) = phone.session.peer_holds_nothing(*id, doc) {
                        self.broken.push(format!("phone {index}: {error}"));
                    }
                }
                phone.session.generate(*id, doc)
            })
            .collect();
        if !outgoing.is_empty() {
            if phone.waiting_since.is_none() {
                phone.waiting_since = Some(self.now);
            }
            let frame = protocol::encode(&ClientMessage::Sync { docs: outgoing });
            self.send(connection, true, frame);
        }
        Ok(())
    }

    /// A phone receives one frame on its current connection.
    pub(super) fn phone_receives(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        let message = protocol::decode::<ServerMessage>(bytes)?;
        let phone = &mut self.phones[index];
        phone.waiting_since = None;
        match message {
            ServerMessage::Sync { docs, .. } => {
                for entry in docs {
                    let Some(doc) = phone.docs.get_mut(&entry.doc) else {
                        continue;
                    };
                    if let Err(error) = phone.session.receive(entry.doc, doc, &entry.message) {
                        self.broken.push(format!(
                            "phone {index}: could not apply the server's message: {error}"
                        ));
                    }
                    phone.unsaved.insert(entry.doc);
                }
            }
            ServerMessage::Stored { docs } => {
                for stored in docs {
                    let stored_heads = stored
                        .heads
                        .iter()
                        .map(|head| ChangeHash::try_from(head.as_slice()))
                        .collect::<Result<Vec<_>, _>>()?;
                    // Version 3: the entry stands for the server's message when it is at
                    // the phone's heads.
                    if let (3.., Some(doc)) = (phone.version, phone.docs.get_mut(&stored.doc)) {
                        if let Err(error) = phone.session.stored(stored.doc, doc, &stored_heads) {
                            self.broken.push(format!(
                                "phone {index}: could not take the stored entry: {error}"
                            ));
                        }
                        phone.unsaved.insert(stored.doc);
                    }
                    phone
                        .acked
                        .entry(stored.doc)
                        .or_default()
                        .extend(stored_heads);
                }
            }
            other => bail!("unexpected server message {other:?}"),
        }
        Ok(())
    }
}
