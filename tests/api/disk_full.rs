//! Nothing acknowledged is lost when the disk fills: the database sits on a small filesystem
//! (a tmpfs this test mounts) that is filled while candidates save, then freed. Saves that
//! could not be stored are answered with an error (the browser keeps and resends them),
//! `/healthz` says the server cannot write, the server recovers by itself once space is back,
//! and after a kill -9 and a restart every acknowledged save is in an intact chain.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imh_exam::store::{attempts, Db};

use crate::helpers::exam::{assert_all_stored, OpenSitting, SoakSave};
use crate::helpers::server::Server;
use crate::helpers::Browser;

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = std::env::temp_dir().join(format!(
            "imh-small-disk-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(SmallDisk { dir })
        } else {
            let _ = std::fs::remove_dir(&dir);
            None
        }
    }

    /// Writes a file until the filesystem refuses more: the disk is full.
    /// Takes every free block, into a new file each time (truncating an earlier one would
    /// free its blocks for a moment).
    fn fill(&self) -> PathBuf {
        static FILLS: AtomicUsize = AtomicUsize::new(0);
        let path = self
            .dir
            .join(format!("filler-{}", FILLS.fetch_add(1, Ordering::SeqCst)));
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match f.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the small disk: {e}"),
            }
        }
        // What is left of the last chunk too.
        for _ in 0..64 {
            if f.write_all(&[0u8; 1024]).is_err() {
                break;
            }
        }
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_survive_a_full_disk() {
    if !is_root() {
        eprintln!("SKIPPED: mounting the small filesystem for the disk-full test needs root");
        return;
    }
    let disk = SmallDisk::mount(24).expect("mount a 24 MiB tmpfs (running as root)");
    let url = format!("sqlite:{}", disk.dir.join("exam.db").display());
    let db = Db::connect(&url).await.unwrap();
    let s = OpenSitting::new(&db).await;

    let mut server = Server::start(&url).await;
    let mut people = Vec::new();
    for i in 0..8 {
        let seat = s.start_part_one(&db, &format!("full{i}@x.org")).await;
        let cand = Browser::for_server(&server.base);
        let token = cand.enter_as_candidate(&seat.code).await;
        people.push((seat.attempt, cand, token));
    }
    db.close().await;

    // Each candidate saves as the exam page does: a save the server could not store (5xx) is
    // kept and sent again with the same sequence number.
    let acks: Arc<Mutex<Vec<SoakSave>>> = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (a, cand, token) in people.clone() {
        let (acks, refused, stop) = (acks.clone(), refused.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut seq = 1u64;
            while !stop.load(Ordering::SeqCst) {
                let save = SoakSave::nth(&a, seq);
                match save.send(&cand, &token).await {
                    Ok(r) if r.status() == 200 => {
                        acks.lock().unwrap().push(save);
                        seq += 1;
                    }
                    Ok(r) if r.status().is_server_error() => {
                        refused.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Ok(r) => panic!("save {seq} answered {}", r.status()),
                    // The server is gone (killed below).
                    Err(_) => break,
                }
            }
        }));
    }
    let wait_for_acks = |n: usize| {
        let acks = acks.clone();
        async move {
            let start = Instant::now();
            while acks.lock().unwrap().len() < n {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "only {} of {n} saves acknowledged",
                    acks.lock().unwrap().len()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for_acks(300).await;

    // Fill the disk and keep it full until saves are refused and the health check says so.
    let filler = disk.fill();
    let full_at = acks.lock().unwrap().len();
    let start = Instant::now();
    let mut unhealthy = false;
    while start.elapsed() < Duration::from_secs(30) {
        // Keep the disk full: anything freed meanwhile (a checkpoint's truncation) is taken.
        let _ = disk.fill();
        if refused.load(Ordering::SeqCst) > 20 && server.health().await == 503 {
            unhealthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        unhealthy,
        "with the disk full for 30 s: {} saves refused, /healthz {}",
        refused.load(Ordering::SeqCst),
        server.health().await
    );
    // Full for a while longer, saves still coming.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = acks.lock().unwrap().len() - full_at;

    // Free the space: the server recovers by itself.
    remove_fillers(&disk.dir, &filler);
    let start = Instant::now();
    while server.health().await != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server did not recover within 30 s of the disk being freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let freed_at = acks.lock().unwrap().len();
    wait_for_acks(freed_at + 300).await;

    server.kill();
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    eprintln!(
        "disk full: {} acknowledged ({} while full, {} after), {} refused with an error",
        acks.len(),
        during,
        acks.len() - freed_at,
        refused.load(Ordering::SeqCst)
    );

    // Started again: every acknowledged save is there, in intact chains.
    let _server = Server::start(&url).await;
    let db = Db::connect(&url).await.unwrap();
    assert_all_stored(&db, &acks).await;
    let (checked, breaks) = attempts::verify_chains(&db).await.unwrap();
    assert_eq!(checked, 8);
    assert!(breaks.is_empty(), "{breaks:?}");
    db.close().await;
}

fn remove_fillers(dir: &Path, filler: &Path) {
    let _ = std::fs::remove_file(filler);
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("filler") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
