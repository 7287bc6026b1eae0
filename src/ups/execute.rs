//! Command execution inside a UPS task: validate a request against the
//! UPS model ([`crate::command::plan`]), arm power-cutting commands, send
//! one SET PDU, read the written objects back into the model, answer and
//! audit. Also the MGE trap acknowledgement, the task's other SET.

use super::task::{UpsSink, UpsTask};
use crate::command::{self, Done, Outcome, Plan, Request, UpsView};
use crate::messages::FailureKind;
use crate::mib::commands::{RFC1628_TEST_ID, RFC1628_TEST_SPIN_LOCK};
use crate::mib::traps::MGE_TRAP_ACK;
use crate::oid::Oid;
use crate::snmp::{SnmpError, Value, VarBind};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

impl<S: UpsSink> UpsTask<S> {
    /// Runs one command, publishes its response and audit record, and
    /// returns its outcome.
    pub(super) async fn execute(&mut self, request: Request) -> Outcome {
        let time = crate::time::rfc3339(std::time::SystemTime::now());
        let outcome = self.run_command(&request).await;
        self.count_command(request.via, &outcome);
        let audit = command::audit(&request, &outcome, &time);
        if matches!(outcome, Outcome::Failed { .. }) {
            tracing::warn!(%audit, "command");
        } else {
            tracing::info!(%audit, "command");
        }
        self.sink
            .response(&command::response(&request, &outcome, &time));
        self.sink.audit(&audit);
        outcome
    }

    async fn run_command(&mut self, request: &Request) -> Outcome {
        match self.try_command(request).await {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    async fn try_command(&mut self, request: &Request) -> Result<Outcome, Outcome> {
        let action = request
            .action
            .clone()
            .map_err(|message| Outcome::failed(FailureKind::Invalid, message))?;
        if self.ups.is_none() {
            return Err(Outcome::failed(
                FailureKind::Unavailable,
                "the UPS is not reachable",
            ));
        }
        let shape = self.model.shape();
        let view = UpsView {
            model: &self.model,
            shape: &shape,
        };
        let plan = command::plan(&action, &view, &self.policy)
            .map_err(|e| Outcome::failed(e.kind(), e.message()))?;
        self.confirm(&plan)?;
        let varbinds = self.plan_varbinds(&plan).await?;
        let community = self.config.write_community.clone();
        let v3 = self.config.version == crate::snmp::SnmpVersion::V3;
        let ups = self.ups.as_mut().expect("checked above");
        ups.client_mut()
            .set(&community, &varbinds)
            .await
            .map_err(|e| Outcome::failed(FailureKind::Snmp, describe_set_error(&e, v3)))?;
        let readback = self.read_back(&plan).await;
        self.make_due(&plan.pages());
        let requested: Map<String, Json> = plan
            .writes
            .iter()
            .map(|w| (w.path.clone(), w.requested.clone()))
            .collect();
        Ok(Outcome::Done(Box::new(Done {
            command: plan.summary.clone(),
            requested,
            readback,
        })))
    }

    /// The two-step arm for power-cutting commands, when configured.
    fn confirm(&mut self, plan: &Plan) -> Result<(), Outcome> {
        let window = Duration::from_secs(self.policy.confirm_seconds);
        if !plan.cuts_power || window.is_zero() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        self.armed
            .retain(|_, armed_at| now.duration_since(*armed_at) < window);
        let key = plan.arm_key();
        if self.armed.remove(&key).is_some() {
            return Ok(());
        }
        self.armed.insert(key, now);
        Err(Outcome::Armed(format!(
            "{}: send it again within {} s to confirm",
            plan.danger,
            window.as_secs()
        )))
    }

    /// The SET varbinds: the plan's writes, or for an RFC 1628 test the
    /// test id with the current spin lock (TestAndIncr) in the same PDU.
    async fn plan_varbinds(&mut self, plan: &Plan) -> Result<Vec<VarBind>, Outcome> {
        let Some(test) = &plan.rfc_test else {
            return Ok(plan
                .writes
                .iter()
                .map(|w| (w.oid.clone(), w.value.clone()))
                .collect());
        };
        let snmp_error = |message: String| Outcome::failed(FailureKind::Snmp, message);
        let spin_lock = Oid::parse(RFC1628_TEST_SPIN_LOCK).expect("valid").child(0);
        let ups = self.ups.as_mut().expect("connected");
        let current = ups
            .client_mut()
            .get(std::slice::from_ref(&spin_lock))
            .await
            .map_err(|e| snmp_error(e.to_string()))?;
        let value = current
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .ok_or_else(|| snmp_error("the agent has no upsTestSpinLock".to_string()))?;
        let test_id = Oid::parse(RFC1628_TEST_ID).expect("valid").child(0);
        Ok(vec![
            (test_id, Value::oid(test.clone())),
            (spin_lock, value),
        ])
    }

    /// GETs what was written, updates the model at once (publishing the
    /// pages that changed) and returns the values the UPS reports, in
    /// published units.
    async fn read_back(&mut self, plan: &Plan) -> Map<String, Json> {
        let mut readback = Map::new();
        let oids: Vec<Oid> = plan.writes.iter().map(|w| w.oid.clone()).collect();
        if oids.is_empty() {
            return readback;
        }
        let ups = self.ups.as_mut().expect("connected");
        let values: BTreeMap<Oid, Value> = match ups.client_mut().get(&oids).await {
            Ok(values) => values.into_iter().collect(),
            Err(error) => {
                tracing::warn!(%error, "read-back after SET failed");
                return readback;
            }
        };
        let mut changed = BTreeSet::new();
        for write in &plan.writes {
            let Some(reading) = values
                .get(&write.oid)
                .and_then(|v| crate::pages::decode_reading(write.source, v))
            else {
                continue;
            };
            readback.insert(write.path.clone(), reading.to_json());
            changed.extend(self.model.set(write.field, write.index, reading));
        }
        if !changed.is_empty() {
            self.publish_state();
        }
        self.publish(changed, false);
        readback
    }

    /// SET upsmgAgentTrapAck.0 = the trap number (MGE cards configured to
    /// resend until acknowledged).
    pub(super) async fn acknowledge(&mut self, specific: i64) {
        let Some(ups) = self.ups.as_mut() else { return };
        let oid = Oid::parse(MGE_TRAP_ACK).expect("valid OID").child(0);
        let community = self.config.write_community.clone();
        if let Err(error) = ups
            .client_mut()
            .set(&community, &[(oid, Value::Integer(specific))])
            .await
        {
            tracing::warn!(%error, specific, "MGE trap acknowledgement failed");
        }
    }
}

/// The agent's refusal, with the likely cause for the usual suspects.
fn describe_set_error(error: &SnmpError, v3: bool) -> String {
    use crate::snmp::ErrorStatus;
    let hint = match error {
        SnmpError::Agent {
            status:
                ErrorStatus::NoAccess | ErrorStatus::AuthorizationError | ErrorStatus::NotWritable,
            ..
        } if v3 => " (the SNMPv3 write_user, or user, needs write access on the card)",
        _ if v3 => "",
        SnmpError::Agent {
            status: ErrorStatus::NoAccess | ErrorStatus::AuthorizationError,
            ..
        } => " (check the UPS's write_community)",
        SnmpError::Agent {
            status: ErrorStatus::NoSuchName | ErrorStatus::ReadOnly,
            ..
        } => " (SNMPv1 agents say this for a wrong write community or a read-only object)",
        SnmpError::Timeout { .. } => {
            " (agents silently ignore a wrong write community: check write_community)"
        }
        _ => "",
    };
    format!("{error}{hint}")
}
