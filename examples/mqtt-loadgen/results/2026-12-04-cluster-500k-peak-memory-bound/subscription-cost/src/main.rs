use futures_util::StreamExt;
fn rss(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines().find(|l| l.starts_with("VmRSS")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap()
}
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let nats_pid = &args[2];
    let mode = args[3].as_str();
    let client = async_nats::connect("127.0.0.1:14333").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (me0, srv0) = (rss("self"), rss(nats_pid));
    let mut subs = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = client.subscribe(format!("p.m.loadgen.jobs.{i}")).await.unwrap();
        if mode == "task" {
            tasks.push(tokio::spawn(async move { let mut s = s; while s.next().await.is_some() {} }));
        } else {
            subs.push(s);
        }
    }
    client.flush().await.unwrap();
    // deliver one message to each
    if args.len() > 4 {
        for i in 0..n {
            client.publish(format!("p.m.loadgen.jobs.{i}"), "x".into()).await.unwrap();
        }
        client.flush().await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (me1, srv1) = (rss("self"), rss(nats_pid));
    println!("n={n} mode={mode} client +{} KiB ({} B/sub), nats-server +{} KiB ({} B/sub)",
        me1 - me0, (me1 - me0) * 1024 / n as u64, srv1 - srv0, (srv1 - srv0) * 1024 / n as u64);
}
