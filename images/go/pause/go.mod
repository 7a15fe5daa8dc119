module kur.dev/images/go/pause

go 1.26.0
